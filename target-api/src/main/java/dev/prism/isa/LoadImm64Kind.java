package dev.prism.isa;

/**
 * The {@code src} subtypes of the 64-bit immediate instruction {@code lddw} (RFC 9669 section
 * 5.4, table "64-bit immediate instructions").
 */
public enum LoadImm64Kind {
    /** dst = (next_imm &lt;&lt; 32) | imm, an integer */
    IMM64("", "integer"),
    /** dst = map_by_fd(imm), a map */
    MAP_BY_FD("map_fd", "map"),
    /** dst = map_val(map_by_fd(imm)) + next_imm, a data address */
    MAP_VALUE_BY_FD("map_value_fd", "data address"),
    /** dst = var_addr(imm), a data address */
    VARIABLE_ADDR("var", "data address"),
    /** dst = code_addr(imm), a code address: slot {@code pc + 1 + imm}, counted as Linux's BPF_PSEUDO_FUNC does */
    CODE_ADDR("code", "code address"),
    /** dst = map_by_idx(imm), a map */
    MAP_BY_IDX("map_idx", "map"),
    /** dst = map_val(map_by_idx(imm)) + next_imm, a data address */
    MAP_VALUE_BY_IDX("map_value_idx", "data address");

    private final String keyword;
    private final String resultType;

    LoadImm64Kind(String keyword, String resultType) {
        this.keyword = keyword;
        this.resultType = resultType;
    }

    /** {@return the src field value 0..6} */
    public int src() {
        return ordinal();
    }

    /** {@return the assembler keyword that names this kind ("" for a plain integer)} */
    public String keyword() {
        return keyword;
    }

    /** {@return the RFC's description of what dst holds afterwards} */
    public String resultType() {
        return resultType;
    }

    /** {@return true when next_imm is meaningful (integer and map-value forms)} */
    public boolean usesNextImm() {
        return this == IMM64 || this == MAP_VALUE_BY_FD || this == MAP_VALUE_BY_IDX;
    }

    static LoadImm64Kind ofSrc(int src) {
        return values()[src];
    }
}
