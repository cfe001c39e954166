package dev.prism.sys;

/**
 * Offsets into {@code union bpf_attr} (include/uapi/linux/bpf.h), one nested class per command
 * member, each field named as in the header. All members share offset 0 of the union; pointer
 * fields are {@code __aligned_u64}, so an attribute block is allocated 8-byte aligned. The
 * offsets were checked against the uapi header with {@code offsetof} on x86-64; the union has
 * the same layout on arm64 (only fixed-width, naturally aligned fields).
 *
 * <p>{@code SIZE} is the number of bytes passed as bpf()'s third argument. The kernel copies
 * {@code min(size, sizeof(union bpf_attr))}, treats what is missing as zero and refuses
 * non-zero bytes it does not know (bpf_check_uarg_tail_zero), so a block that ends after the
 * last field Prism writes works on older and newer kernels alike.
 */
final class BpfAttr {
    private BpfAttr() {
    }

    /** {@code enum bpf_cmd}. */
    static final int BPF_MAP_CREATE = 0;
    static final int BPF_MAP_LOOKUP_ELEM = 1;
    static final int BPF_MAP_UPDATE_ELEM = 2;
    static final int BPF_MAP_DELETE_ELEM = 3;
    static final int BPF_MAP_GET_NEXT_KEY = 4;
    static final int BPF_PROG_LOAD = 5;
    static final int BPF_PROG_TEST_RUN = 10;
    static final int BPF_BTF_LOAD = 18;
    static final int BPF_MAP_FREEZE = 22;
    static final int BPF_OBJ_GET_INFO_BY_FD = 15;

    /** The member used by BPF_OBJ_GET_INFO_BY_FD: {@code __u32 bpf_fd, info_len; __aligned_u64 info}. */
    static final class InfoByFd {
        static final long BPF_FD = 0;
        static final long INFO_LEN = 4;
        static final long INFO = 8;
        static final long SIZE = 16;
        /** struct bpf_map_info: {@code __u32 type, id, ...}: the id at offset 4. */
        static final long MAP_INFO_ID = 4;
        static final int MAP_INFO_SIZE = 88;

        private InfoByFd() {
        }
    }

    /** {@code BPF_OBJ_NAME_LEN}: map_name and prog_name, NUL included. */
    static final int OBJ_NAME_LEN = 16;

    /** The member used by BPF_MAP_CREATE. */
    static final class MapCreate {
        static final long MAP_TYPE = 0;        // __u32 map_type
        static final long KEY_SIZE = 4;        // __u32 key_size
        static final long VALUE_SIZE = 8;      // __u32 value_size
        static final long MAX_ENTRIES = 12;    // __u32 max_entries
        static final long MAP_FLAGS = 16;      // __u32 map_flags
        static final long INNER_MAP_FD = 20;   // __u32 inner_map_fd (map-in-maps: the template)
        // 24: __u32 numa_node
        static final long MAP_NAME = 28;       // char map_name[BPF_OBJ_NAME_LEN]
        // 44: map_ifindex, 48: btf_fd, 52..60: btf type ids, 64: __u64 map_extra
        static final long SIZE = 72;

        private MapCreate() {
        }
    }

    /**
     * The member used by BPF_MAP_LOOKUP_ELEM, _UPDATE_ELEM, _DELETE_ELEM and _GET_NEXT_KEY;
     * BPF_MAP_FREEZE reads only its map_fd.
     */
    static final class MapElem {
        static final long MAP_FD = 0;          // __u32 map_fd
        static final long KEY = 8;             // __aligned_u64 key
        static final long VALUE = 16;          // union { __aligned_u64 value; __aligned_u64 next_key; }
        static final long FLAGS = 24;          // __u64 flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK)
        static final long SIZE = 32;

        private MapElem() {
        }
    }

    /** The member used by BPF_PROG_LOAD. */
    static final class ProgLoad {
        static final long PROG_TYPE = 0;       // __u32 prog_type
        static final long INSN_CNT = 4;        // __u32 insn_cnt
        static final long INSNS = 8;           // __aligned_u64 insns
        static final long LICENSE = 16;        // __aligned_u64 license (NUL-terminated string)
        static final long LOG_LEVEL = 24;      // __u32 log_level
        static final long LOG_SIZE = 28;       // __u32 log_size
        static final long LOG_BUF = 32;        // __aligned_u64 log_buf
        // 40: __u32 kern_version (unused), 44: __u32 prog_flags
        static final long PROG_NAME = 48;      // char prog_name[BPF_OBJ_NAME_LEN]
        // 64: prog_ifindex, 68: expected_attach_type, 72: prog_btf_fd, 76..116: BTF func/line
        // info, attach ids, core_relo_cnt
        static final long PROG_BTF_FD = 72;     // __u32 prog_btf_fd
        static final long FUNC_INFO_REC_SIZE = 76; // __u32 func_info_rec_size
        static final long FUNC_INFO = 80;      // __aligned_u64 func_info
        static final long FUNC_INFO_CNT = 88;  // __u32 func_info_cnt
        static final long FD_ARRAY = 120;      // __aligned_u64 fd_array (map fds for BPF_PSEUDO_MAP_IDX)
        // 128: core_relos, 136: core_relo_rec_size
        static final long LOG_TRUE_SIZE = 140; // __u32 log_true_size (out, Linux 6.4+)
        static final long SIZE = 144;

        private ProgLoad() {
        }
    }

    /** The member used by BPF_BTF_LOAD. */
    static final class BtfLoad {
        static final long BTF = 0;             // __aligned_u64 btf
        static final long BTF_LOG_BUF = 8;     // __aligned_u64 btf_log_buf
        static final long BTF_SIZE = 16;       // __u32 btf_size
        static final long BTF_LOG_SIZE = 20;   // __u32 btf_log_size
        static final long BTF_LOG_LEVEL = 24;  // __u32 btf_log_level
        static final long SIZE = 32;

        private BtfLoad() {
        }
    }

    /** The member used by BPF_PROG_TEST_RUN ({@code struct test}). */
    static final class TestRun {
        static final long PROG_FD = 0;         // __u32 prog_fd
        static final long RETVAL = 4;          // __u32 retval (out)
        static final long DATA_SIZE_IN = 8;    // __u32 data_size_in
        static final long DATA_SIZE_OUT = 12;  // __u32 data_size_out (in: buffer size, out: data size)
        static final long DATA_IN = 16;        // __aligned_u64 data_in
        static final long DATA_OUT = 24;       // __aligned_u64 data_out
        static final long REPEAT = 32;         // __u32 repeat
        static final long DURATION = 36;       // __u32 duration (out, mean ns per repetition)
        static final long CTX_SIZE_IN = 40;    // __u32 ctx_size_in
        static final long CTX_SIZE_OUT = 44;   // __u32 ctx_size_out (in: buffer size, out: context size)
        static final long CTX_IN = 48;         // __aligned_u64 ctx_in
        static final long CTX_OUT = 56;        // __aligned_u64 ctx_out
        // 64: flags, 68: cpu, 72: batch_size
        static final long SIZE = 80;

        private TestRun() {
        }
    }
}
