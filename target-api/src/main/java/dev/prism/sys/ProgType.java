package dev.prism.sys;

/** The {@code enum bpf_prog_type} values Prism loads (include/uapi/linux/bpf.h). */
public enum ProgType {
    SOCKET_FILTER(1),
    SCHED_CLS(3),
    XDP(6);

    private final int code;

    ProgType(int code) {
        this.code = code;
    }

    /** {@return the kernel's numeric value, BPF_PROG_TYPE_*} */
    public int code() {
        return code;
    }
}
