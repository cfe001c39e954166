package dev.prism.conformance;

/**
 * One case on one target.
 *
 * @param testCase the case
 * @param target   the target id
 * @param group    the conformance group the case is counted under
 * @param status   pass, fail, skip or error
 * @param expected what the case expects, as text
 * @param actual   what the target did, as text (empty when it did not run)
 * @param message  why: the failure, the skip reason, the error
 */
public record CaseResult(ConformanceCase testCase, String target, String group, Status status,
                         String expected, String actual, String message) {
}
