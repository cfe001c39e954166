package dev.prism.runtime;

import java.util.List;

/**
 * A helper's prototype, as Linux declares it in its {@code struct bpf_func_proto}: the id, the
 * name, what each argument must be and what comes back. The verifier checks calls against this
 * table; targets declare which ids they support.
 *
 * @param id   the Linux helper id (include/uapi/linux/bpf.h, {@code __BPF_FUNC_MAPPER} order)
 * @param name the name without the {@code bpf_} prefix
 * @param args the argument kinds for r1..r5, in order (absent ones are not read)
 * @param ret  what r0 holds afterwards
 */
public record HelperProto(int id, String name, List<Arg> args, Ret ret) {
    public HelperProto {
        args = List.copyOf(args);
        if (args.size() > 5) {
            throw new IllegalArgumentException("a helper takes at most 5 arguments: " + name);
        }
    }

    /** Argument kinds ({@code enum bpf_arg_type}). */
    public enum Arg {
        /** a map pointer from lddw map_fd / map_idx ({@code ARG_CONST_MAP_PTR}) */
        CONST_MAP_PTR,
        /** initialized memory of the map's key size ({@code ARG_PTR_TO_MAP_KEY}) */
        PTR_TO_MAP_KEY,
        /** initialized memory of the map's value size ({@code ARG_PTR_TO_MAP_VALUE}) */
        PTR_TO_MAP_VALUE,
        /** initialized memory, size in the next argument, may be null when the size is 0 */
        PTR_TO_MEM_OR_NULL,
        /** initialized memory, size in the next argument ({@code ARG_PTR_TO_MEM | MEM_RDONLY}) */
        PTR_TO_MEM,
        /** memory the helper writes, may be uninitialized, size in the next argument ({@code ARG_PTR_TO_UNINIT_MEM}) */
        PTR_TO_UNINIT_MEM,
        /** a size known to be a constant or bounded, may be zero ({@code ARG_CONST_SIZE_OR_ZERO}) */
        CONST_SIZE_OR_ZERO,
        /** a size, bounded and non-zero ({@code ARG_CONST_SIZE}) */
        CONST_SIZE,
        /** a constant allocation size ({@code ARG_CONST_ALLOC_SIZE_OR_ZERO}) */
        CONST_ALLOC_SIZE_OR_ZERO,
        /** memory returned by ringbuf_reserve ({@code ARG_PTR_TO_RINGBUF_MEM}, released by the call) */
        PTR_TO_RINGBUF_MEM,
        /** the program's context ({@code ARG_PTR_TO_CTX}) */
        PTR_TO_CTX,
        /** a BPF function, from lddw code ({@code ARG_PTR_TO_FUNC}) */
        PTR_TO_FUNC,
        /** a stack pointer or null ({@code ARG_PTR_TO_STACK_OR_NULL}) */
        PTR_TO_STACK_OR_NULL,
        /** any scalar ({@code ARG_ANYTHING}) */
        ANYTHING,
        /** a map the helper iterates with a callback ({@code ARG_CONST_MAP_PTR} of bpf_for_each_map_elem) */
        CONST_MAP_PTR_ITER
    }

    /** Return kinds ({@code enum bpf_return_type}). */
    public enum Ret {
        INTEGER,
        VOID,
        MAP_VALUE_OR_NULL,
        RINGBUF_MEM_OR_NULL
    }

    @Override
    public String toString() {
        return "bpf_" + name + "#" + id;
    }
}
