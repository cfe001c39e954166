package dev.prism.verifier;

import dev.prism.isa.Insn;
import dev.prism.isa.Size;
import dev.prism.program.Program;
import dev.prism.program.SkbContext;
import java.util.function.IntFunction;

/**
 * Rewrites a verified tc program's {@code struct __sk_buff} accesses into the host layout of
 * {@link SkbContext}, one slot for one slot (as Linux's bpf_convert_ctx_access does for
 * {@code struct sk_buff}):
 * <ul>
 * <li>a load of data or data_end becomes an 8-byte load of the pointer;</li>
 * <li>a load of any other field keeps its size and sign extension and moves to the host field
 *     (plus its position inside the field, for narrow loads);</li>
 * <li>a 4-byte store to tc_classid becomes a 2-byte store: the field is a u16 in sk_buff, so
 *     Linux keeps the low half of what the program writes.</li>
 * </ul>
 */
final class SkbNormalizer {
    private SkbNormalizer() {
    }

    static Program normalize(Program program, IntFunction<Facts> facts) {
        Insn[] slots = program.slots();
        for (int pc = 0; pc < slots.length; pc++) {
            Facts f = facts.apply(pc);
            if (f == null || f.access() == null || f.access().region() != Facts.Kind.CTX) {
                continue;
            }
            int user = (int) f.access().minOffset();
            SkbContext.Field field = SkbContext.field(user);
            int host = SkbContext.hostOffset(user, f.access().size());
            if (slots[pc] instanceof Insn.Load l) {
                Size size = field.pointer() ? Size.DW : l.size();
                boolean sx = !field.pointer() && l.signExtend();
                slots[pc] = new Insn.Load(size, sx, l.dst(), l.src(), (short) (l.offset() + host - user));
            } else if (slots[pc] instanceof Insn.Store st) {
                Size size = user == SkbContext.USER_TC_CLASSID ? Size.H : st.size();
                slots[pc] = new Insn.Store(size, st.dst(), (short) (st.offset() + host - user), st.src());
            } else {
                // atomics on the context are refused by the verifier; nothing else touches memory
                throw new IllegalStateException(pc + ": context access by " + slots[pc]);
            }
        }
        return program.toBuilder().slotsNormalized(slots).contextLayout(Program.ContextLayout.HOST).build();
    }
}
