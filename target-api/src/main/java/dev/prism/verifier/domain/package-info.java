/**
 * The verifier's scalar abstract domain: what is known about a register that holds a number.
 *
 * <ul>
 *   <li>{@link dev.prism.verifier.domain.Tnum}: known bits (value, mask), Linux's tristate
 *       numbers.
 *   <li>{@link dev.prism.verifier.domain.Scalar}: a set of 64-bit values given by a tnum and by
 *       signed and unsigned ranges of the value and of its low half; the lattice operations
 *       (join, meet, widen, inclusion) and the normal form ({@code sync}).
 *   <li>{@link dev.prism.verifier.domain.ScalarAlu}: transfer functions of every ALU
 *       instruction, byte swap, sign extension and load.
 *   <li>{@link dev.prism.verifier.domain.ScalarBranch}: whether a conditional jump is decided,
 *       and what each of its edges teaches about the operands.
 * </ul>
 *
 * <p>Soundness is the contract: every abstract operation over-approximates the concrete one in
 * {@link dev.prism.isa.Semantics}, the same code the interpreter runs. The tests check it by
 * brute force (random abstract values with sampled members, and exhaustive small windows).
 * Verified programs run without bounds checks, so a hole here is a hole in every backend.
 */
package dev.prism.verifier.domain;
