package dev.prism.runtime;

/**
 * The helpers of tc (sched_cls) programs, on the run's {@link SkbBuffer}, with the argument
 * checks and return values of Linux's implementations (net/core/filter.c) for the linear,
 * CHECKSUM_NONE skb of a test run. Program-type dependent helpers (bpf_redirect) dispatch here
 * when the run has an skb.
 */
public final class SkbHelpers {
    /** BPF_F_RECOMPUTE_CSUM, BPF_F_INVALIDATE_HASH: skb_store_bytes's flags. */
    static final long F_RECOMPUTE_CSUM = 1;
    static final long F_INVALIDATE_HASH = 2;
    /** BPF_F_HDR_FIELD_MASK: the size of the replaced field (0, 2 or 4) in csum_replace's flags. */
    static final long F_HDR_FIELD_MASK = 0xf;
    static final long F_PSEUDO_HDR = 1 << 4;
    static final long F_MARK_MANGLED_0 = 1 << 5;
    static final long F_MARK_ENFORCE = 1 << 6;
    static final long F_IPV6 = 1 << 7;
    /** BPF_F_INGRESS: bpf_redirect's one flag. */
    static final long F_INGRESS = 1;
    /** TC_ACT_SHOT, TC_ACT_REDIRECT (include/uapi/linux/pkt_cls.h). */
    public static final long TC_ACT_SHOT = 2;
    public static final long TC_ACT_REDIRECT = 7;

    private SkbHelpers() {
    }

    static void bindAll(HelperTable t) {
        t.bind(Helpers.SKB_STORE_BYTES, "skb_store_bytes", SkbHelpers::storeBytes);
        t.bind(Helpers.SKB_LOAD_BYTES, "skb_load_bytes", SkbHelpers::loadBytes);
        t.bind(Helpers.L3_CSUM_REPLACE, "l3_csum_replace", SkbHelpers::l3CsumReplace);
        t.bind(Helpers.L4_CSUM_REPLACE, "l4_csum_replace", SkbHelpers::l4CsumReplace);
        t.bind(Helpers.GET_HASH_RECALC, "get_hash_recalc", (c, ctx, b, d, e, f) -> hashRecalc(skb(c, "get_hash_recalc")));
        t.bind(Helpers.SKB_CHANGE_HEAD, "skb_change_head", (c, ctx, room, flags, e, f) -> skb(c, "skb_change_head")
                .changeHead(room, flags));
        t.bind(Helpers.SKB_ADJUST_ROOM, "skb_adjust_room", (c, ctx, diff, mode, flags, f) -> skb(c, "skb_adjust_room")
                .adjustRoom(diff, mode, flags));
    }

    private static SkbBuffer skb(HelperContext c, String helper) {
        SkbBuffer s = c.skb();
        if (s == null) {
            throw new IllegalStateException("bpf_" + helper + " needs an skb (a tc program)");
        }
        return s;
    }

    /**
     * bpf_redirect for tc: TC_ACT_REDIRECT, or TC_ACT_SHOT for flags other than BPF_F_INGRESS
     * (bpf_redirect in net/core/filter.c). The target cannot be followed by a test run.
     */
    public static long redirect(HelperContext c, long ifindex, long flags) {
        return (flags & ~F_INGRESS) != 0 ? TC_ACT_SHOT : TC_ACT_REDIRECT;
    }

    /** bpf_skb_store_bytes(skb, offset, from, len, flags). */
    private static long storeBytes(HelperContext c, long ctx, long offset, long from, long len, long flags) {
        SkbBuffer s = skb(c, "skb_store_bytes");
        long off = offset & 0xffff_ffffL;
        long n = len & 0xffff_ffffL;
        if ((flags & ~(F_RECOMPUTE_CSUM | F_INVALIDATE_HASH)) != 0) {
            return SkbBuffer.EINVAL;
        }
        if (off > Integer.MAX_VALUE || !s.inPacket(off, n)) {
            return SkbBuffer.EFAULT;
        }
        byte[] bytes = c.read(from, (int) n);
        s.write((int) off, bytes);
        if ((flags & F_INVALIDATE_HASH) != 0) {
            s.setHash(0);
        }
        return 0;
    }

    /** bpf_skb_load_bytes(skb, offset, to, len): the destination is zeroed on failure. */
    private static long loadBytes(HelperContext c, long ctx, long offset, long to, long len, long r5) {
        SkbBuffer s = skb(c, "skb_load_bytes");
        long off = offset & 0xffff_ffffL;
        int n = (int) (len & 0xffff_ffffL);
        if (off > Integer.MAX_VALUE || !s.inPacket(off, n)) {
            c.write(to, new byte[n]);
            return SkbBuffer.EFAULT;
        }
        c.write(to, s.read((int) off, n));
        return 0;
    }

    /** bpf_l3_csum_replace(skb, offset, from, to, flags). */
    private static long l3CsumReplace(HelperContext c, long ctx, long offset, long from, long to, long flags) {
        SkbBuffer s = skb(c, "l3_csum_replace");
        if ((flags & ~F_HDR_FIELD_MASK) != 0) {
            return SkbBuffer.EINVAL;
        }
        long off = offset & 0xffff_ffffL;
        if (off > 0xffff || (off & 1) != 0 || !s.inPacket(off, 2)) {
            return SkbBuffer.EFAULT;
        }
        int at = (int) off;
        int sum = s.u16(at);
        switch ((int) (flags & F_HDR_FIELD_MASK)) {
            case 0 -> {
                if (from != 0) {
                    return SkbBuffer.EINVAL;
                }
                s.setU16(at, Checksum.replaceByDiff(sum, (int) to));
            }
            case 2 -> s.setU16(at, Checksum.replace2(sum, (int) from & 0xffff, (int) to & 0xffff));
            case 4 -> s.setU16(at, Checksum.replace4(sum, (int) from, (int) to));
            default -> {
                return SkbBuffer.EINVAL;
            }
        }
        return 0;
    }

    /**
     * bpf_l4_csum_replace(skb, offset, from, to, flags). On the test run's CHECKSUM_NONE skb the
     * inet_proto_csum_replace* functions update the checksum field alone, pseudo header or not
     * (BPF_F_PSEUDO_HDR and BPF_F_IPV6 change only skb->csum of CHECKSUM_COMPLETE skbs).
     */
    private static long l4CsumReplace(HelperContext c, long ctx, long offset, long from, long to, long flags) {
        SkbBuffer s = skb(c, "l4_csum_replace");
        if ((flags & ~(F_MARK_MANGLED_0 | F_MARK_ENFORCE | F_PSEUDO_HDR | F_HDR_FIELD_MASK | F_IPV6)) != 0) {
            return SkbBuffer.EINVAL;
        }
        long off = offset & 0xffff_ffffL;
        if (off > 0xffff || (off & 1) != 0 || !s.inPacket(off, 2)) {
            return SkbBuffer.EFAULT;
        }
        int at = (int) off;
        int sum = s.u16(at);
        boolean mangled0 = (flags & F_MARK_MANGLED_0) != 0;
        if (mangled0 && (flags & F_MARK_ENFORCE) == 0 && sum == 0) {
            return 0;
        }
        int result;
        switch ((int) (flags & F_HDR_FIELD_MASK)) {
            case 0 -> {
                if (from != 0) {
                    return SkbBuffer.EINVAL;
                }
                result = Checksum.replaceByDiff(sum, (int) to);
            }
            case 2 -> result = Checksum.replace4(sum, (int) from & 0xffff, (int) to & 0xffff);
            case 4 -> result = Checksum.replace4(sum, (int) from, (int) to);
            default -> {
                return SkbBuffer.EINVAL;
            }
        }
        if (mangled0 && result == 0) {
            result = 0xffff; // CSUM_MANGLED_0
        }
        s.setU16(at, result);
        return 0;
    }

    /**
     * bpf_get_hash_recalc: skb->hash, computed from the flow when it is 0. Linux keys its flow
     * hash with a secret drawn at boot (siphash over the dissected flow keys), so its values
     * differ between machines and boots; Prism's is a fixed function of the same flow (FNV-1a
     * over the EtherType, the IPv4 or IPv6 addresses, the protocol and, for unfragmented TCP,
     * UDP and SCTP, the ports) with Linux's properties: never 0, equal for equal flows, kept in
     * skb->hash until a helper clears it.
     */
    static long hashRecalc(SkbBuffer s) {
        int h = s.ctx().get(java.lang.foreign.ValueLayout.JAVA_INT, dev.prism.program.SkbContext.HOST_HASH);
        if (h != 0) {
            return h & 0xffff_ffffL;
        }
        byte[] p = s.packet();
        int hash = 0x811c9dc5;
        int proto = s.protocol();
        hash = fnv(hash, proto >>> 8);
        hash = fnv(hash, proto);
        int l3 = 14;
        if (proto == SkbBuffer.ETH_P_IP && p.length >= l3 + 20) {
            for (int i = l3 + 12; i < l3 + 20; i++) {
                hash = fnv(hash, p[i]);
            }
            int l4proto = p[l3 + 9] & 0xff;
            hash = fnv(hash, l4proto);
            int ihl = (p[l3] & 0xf) * 4;
            boolean fragment = ((p[l3 + 6] & 0x3f) | p[l3 + 7]) != 0;
            if (!fragment && ports(l4proto) && ihl >= 20 && p.length >= l3 + ihl + 4) {
                for (int i = l3 + ihl; i < l3 + ihl + 4; i++) {
                    hash = fnv(hash, p[i]);
                }
            }
        } else if (proto == SkbBuffer.ETH_P_IPV6 && p.length >= l3 + 40) {
            for (int i = l3 + 8; i < l3 + 40; i++) {
                hash = fnv(hash, p[i]);
            }
            int next = p[l3 + 6] & 0xff;
            hash = fnv(hash, next);
            if (ports(next) && p.length >= l3 + 44) {
                for (int i = l3 + 40; i < l3 + 44; i++) {
                    hash = fnv(hash, p[i]);
                }
            }
        }
        if (hash == 0) {
            hash = 1;
        }
        s.setHash(hash);
        return hash & 0xffff_ffffL;
    }

    private static boolean ports(int l4proto) {
        return l4proto == 6 || l4proto == 17 || l4proto == 132;
    }

    private static int fnv(int hash, int b) {
        return (hash ^ (b & 0xff)) * 0x01000193;
    }
}
