package dev.prism.arm64;

/** Addressing of a load/store pair: plain signed offset, pre-index ({@code [xn, #o]!}) or post-index ({@code [xn], #o}). */
public enum A64Index {
    OFFSET, PRE, POST
}
