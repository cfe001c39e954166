package dev.prism.program;

/**
 * A function of a program: the entry (start 0) or a BPF-to-BPF callee.
 *
 * @param name  its symbol name ("parse_ipv4"), or the section name for the entry
 * @param start the slot of its first instruction
 */
public record Function(String name, int start) {
}
