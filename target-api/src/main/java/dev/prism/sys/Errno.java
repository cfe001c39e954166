package dev.prism.sys;

/**
 * The errno values bpf() returns, by name (include/uapi/asm-generic/errno-base.h, errno.h and,
 * for ENOTSUPP, the kernel-internal include/linux/errno.h, which bpf() lets escape). The numbers
 * are the generic ones that x86-64 and arm64 share.
 */
enum Errno {
    EPERM(1, "operation not permitted"),
    ENOENT(2, "no such file or directory"),
    ESRCH(3, "no such process"),
    EINTR(4, "interrupted system call"),
    EIO(5, "input/output error"),
    E2BIG(7, "argument list too long"),
    EBADF(9, "bad file descriptor"),
    EAGAIN(11, "resource temporarily unavailable"),
    ENOMEM(12, "cannot allocate memory"),
    EACCES(13, "permission denied"),
    EFAULT(14, "bad address"),
    EBUSY(16, "device or resource busy"),
    EEXIST(17, "file exists"),
    ENODEV(19, "no such device"),
    EINVAL(22, "invalid argument"),
    ENFILE(23, "too many open files in system"),
    EMFILE(24, "too many open files"),
    ENOSPC(28, "no space left on device"),
    ERANGE(34, "numerical result out of range"),
    ENOSYS(38, "function not implemented"),
    ELOOP(40, "too many levels of symbolic links"),
    EOPNOTSUPP(95, "operation not supported"),
    ENOTSUPP(524, "operation not supported (kernel-internal)");

    private final int number;
    private final String description;

    Errno(int number, String description) {
        this.number = number;
        this.description = description;
    }

    /** {@return the errno value} */
    int number() {
        return number;
    }

    /**
     * {@return "EPERM (operation not permitted)", with {@code hint} after the description when
     * given ("EPERM (operation not permitted; not root?)"), or "errno 1234" for a number not listed}
     */
    static String describe(int errno, String hint) {
        String more = hint == null ? "" : "; " + hint;
        for (Errno e : values()) {
            if (e.number == errno) {
                return e.name() + " (" + e.description + more + ")";
            }
        }
        return "errno " + errno + (hint == null ? "" : " (" + hint + ")");
    }
}
