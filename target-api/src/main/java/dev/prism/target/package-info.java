/**
 * The Target SPI: what a backend implements so that Prism can check, compile, load and run a
 * verified program on it, and so that the planner can say, without compiling, whether it can
 * and at what cost (DESIGN.md, "Target SPI" and "The planner").
 *
 * <h2>The contract</h2>
 * <pre>
 * Target      id(), description(), availability()      found with ServiceLoader
 *             capabilities() -&gt; Capabilities          everything it can refuse, as data
 *             check(VerifiedProgram) -&gt; Verdict        ok | reasons; default: CapabilityChecker
 *             compile(VerifiedProgram) -&gt; Artifact     refuses exactly what check reports
 *             load(List&lt;Program&gt;) -&gt; Executable       several programs sharing maps (tail calls)
 * Artifact    listing(), bytes(), load() -&gt; Executable
 * Executable  run(RunInput) -&gt; RunResult; run(List&lt;RunInput&gt;) -&gt; one result per input
 *             (default loops; batch devices override); nanosPerRun; maps(); close()
 * </pre>
 *
 * <h2>Capabilities: everything a target can refuse, as data</h2>
 * {@link dev.prism.target.Capabilities} is a record of small records and enums, declared in a
 * few lines with {@link dev.prism.target.Capabilities#builder()} (which starts from "everything,
 * no helpers"). Each component maps to standard rules ({@link dev.prism.target.Rule}), which
 * {@link dev.prism.target.CapabilityChecker} applies:
 * <table>
 * <caption>components and the rules they drive</caption>
 * <tr><th>component</th><th>rule ids</th><th>matched against</th></tr>
 * <tr><td>programTypes</td><td>program-type</td><td>{@code Program.type()}</td></tr>
 * <tr><td>groups, maxVersion</td><td>group, cpu-version</td><td>each instruction's registry row ({@code Opcodes.of})</td></tr>
 * <tr><td>missingOpcodes</td><td>opcode</td><td>single rows a target lacks inside a group it has (NFP: mod, ldxs*, le*)</td></tr>
 * <tr><td>arithmetic</td><td>mul-range, div-range, div-constant</td><td>the operand ranges in {@code Facts.registers()}; {@code Facts.divisor()}</td></tr>
 * <tr><td>loops (NONE, BOUNDED n, UNROLLED n)</td><td>loop, loop-trips</td><td>{@code VerifiedProgram.loopBounds()}, reported at the loop head</td></tr>
 * <tr><td>limits</td><td>insn-limit, stack-limit, packet-offset, executed-limit</td><td>length, {@code Requires.stackDepth()}, packet {@code Facts.access()}, {@code Stats.executedBound()}</td></tr>
 * <tr><td>helperRules (id to HelperRule)</td><td>helper, helper-map, helper-arg</td><td>{@code call} sites, r1's map, constant arguments</td></tr>
 * <tr><td>maps (MapType to MapRule)</td><td>map-type, map-key-size, map-value-size, map-entries, map-write</td><td>{@code Program.maps()} (at the first lddw naming the map); stores, atomics and update/delete calls on map values against NONE / ATOMIC_ADD / ANY</td></tr>
 * <tr><td>atomics</td><td>atomic</td><td>each atomic instruction's operation</td></tr>
 * <tr><td>calls (local, tail, callx)</td><td>bpf-call, tail-call, callx</td><td>{@code call local}, helper 12, {@code callx}</td></tr>
 * <tr><td>returns</td><td>return-code</td><td>r0's proven range at the entry function's exits</td></tr>
 * <tr><td>legalizes</td><td>(none)</td><td>rule ids a legalization lifts: their reasons are marked liftable</td></tr>
 * </table>
 *
 * <h2>check, and compile refusing the same</h2>
 * {@link dev.prism.target.Target#check} is the single source of truth for refusals. Its
 * {@link dev.prism.target.Verdict} is ok, or a list of {@link dev.prism.target.Reason}s, each with
 * the pc (-1 for whole-program reasons), the source line from BTF line info when the object has
 * it, the stable rule id, a lower-case sentence, whether a legalization could lift it, and,
 * where the target's own tooling has a message (the nfp driver's verifier log, p4c's error),
 * that message quoted. A reason prints as {@code pc: rule: sentence at file.c:line}.
 *
 * <p>Every {@code compile} starts with {@link dev.prism.target.Target#requireSupported}, which
 * throws {@link dev.prism.error.TargetException#refused}: an "unsupported" TargetException
 * carrying the verdict ({@link dev.prism.error.TargetException#verdict()}) whose message is
 * {@link dev.prism.target.Verdict#message()} ({@code pc: not supported: sentence}). A refusal a
 * backend can only discover while lowering is a defect of its {@code check}: add the rule to
 * {@code check} (as data in Capabilities where it fits, else as a
 * {@link dev.prism.target.CapabilityChecker.Extra} with a rule from
 * {@link dev.prism.target.Rule#define}) so that the planner sees it. The conformance module tests
 * the agreement: for every example and target, check is ok exactly when compile, load and run
 * succeed.
 *
 * <h2>Implementing a new backend's check</h2>
 * <ol>
 * <li>Declare {@code capabilities()} with the builder: program types, groups, version, lacking
 *     opcodes, arithmetic and loop limits, helpers (with their restrictions), map types (with
 *     limits and data-plane write rule), atomics, calls, return codes, and the rules its
 *     legalizer lifts.</li>
 * <li>Leave {@code check} to the default, or override it as
 *     {@code CapabilityChecker.of(capabilities()).with(extraRule).check(p)} for refusals the data
 *     cannot express. Use per-instruction {@link dev.prism.verifier.Facts}: register kinds and
 *     ranges, proven memory accesses, constant divisors, decided branches.</li>
 * <li>Begin {@code compile} with {@code requireSupported(program)}.</li>
 * <li>Add a crafted program per own rule to the conformance resources' planner cases.</li>
 * </ol>
 *
 * <h2>Runs and batches</h2>
 * {@link dev.prism.target.Executable#run(java.util.List)} returns one result per input, maps
 * carrying over between runs as on consecutive packets; its default loops over single runs.
 * Batch devices (GPU work-items, NIC pipelines, CSD firmware) override it to run a batch at once.
 */
package dev.prism.target;
