package dev.prism.target;

import dev.prism.error.TargetException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** The targets on the class path, found through {@link ServiceLoader}. */
public final class Targets {
    private Targets() {
    }

    /** {@return every target, the interpreter first, then by id} */
    public static List<Target> all() {
        List<Target> out = new ArrayList<>();
        ServiceLoader.load(Target.class).forEach(out::add);
        out.sort(Comparator.comparing((Target t) -> !t.id().equals("interpreter")).thenComparing(Target::id));
        return out;
    }

    /** {@return the target with this id} @throws TargetException naming the known ids */
    public static Target byId(String id) {
        List<Target> all = all();
        return all.stream().filter(t -> t.id().equals(id)).findFirst().orElseThrow(() -> new TargetException(
                "unknown target '" + id + "' (known: " + String.join(", ", all.stream().map(Target::id).toList()) + ")"));
    }
}
