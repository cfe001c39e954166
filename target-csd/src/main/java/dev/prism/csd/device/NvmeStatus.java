package dev.prism.csd.device;

/**
 * Completion status of an emulated NVMe command: a Status Code Type (SCT) and a Status Code (SC),
 * as the Completion Queue Entry's Status field carries them.
 *
 * <p>Generic statuses (SCT 0h) are the NVMe Base Specification's. The Computational Programs
 * command set defines command-specific statuses for its commands, but the specification text
 * available to this project does not give their values; every status marked
 * <b>Prism-defined</b> below is therefore reported with SCT 7h (Vendor Specific), with Prism's
 * own SC values, so that no value here claims to be the standard's.
 */
public enum NvmeStatus {
    /** Successful Completion (SCT 0h, SC 00h; base specification). */
    SUCCESS(0x0, 0x00, "successful completion"),
    /** Invalid Command Opcode (SCT 0h, SC 01h; base specification). */
    INVALID_OPCODE(0x0, 0x01, "invalid command opcode"),
    /** Invalid Field in Command (SCT 0h, SC 02h; base specification). */
    INVALID_FIELD(0x0, 0x02, "invalid field in command"),
    /** Internal Error (SCT 0h, SC 06h; base specification). */
    INTERNAL_ERROR(0x0, 0x06, "internal error"),
    /** Invalid Namespace or Format (SCT 0h, SC 0Bh; base specification). */
    INVALID_NAMESPACE(0x0, 0x0b, "invalid namespace or format"),
    /** LBA Out of Range (SCT 0h, SC 80h; NVM command set): a range outside the namespace. */
    OUT_OF_RANGE(0x0, 0x80, "range outside the namespace"),

    /** Prism-defined: the Program Index names no slot of this device. */
    INVALID_PROGRAM_INDEX(0x7, 0xc0, "invalid program index"),
    /** Prism-defined: Load Program into a slot that holds a program (unload it first). */
    PROGRAM_INDEX_OCCUPIED(0x7, 0xc1, "program index occupied"),
    /** Prism-defined: the slot holds no program. */
    PROGRAM_SLOT_EMPTY(0x7, 0xc2, "no program in the slot"),
    /** Prism-defined: Execute Program of a program that is not activated. */
    PROGRAM_NOT_ACTIVE(0x7, 0xc3, "program not activated"),
    /** Prism-defined: unloading an activated program (deactivate it first). */
    PROGRAM_ACTIVE(0x7, 0xc4, "program is activated"),
    /** Prism-defined: a program type the device does not download (it takes Prism eBPF images only). */
    INVALID_PROGRAM_TYPE(0x7, 0xc5, "invalid program type"),
    /** Prism-defined: the image is larger than the device's program memory. */
    IMAGE_TOO_BIG(0x7, 0xc6, "program image too big"),
    /** Prism-defined: the image does not parse (the detail names the offset). */
    INVALID_IMAGE(0x7, 0xc7, "malformed program image"),
    /** Prism-defined: the image carries no signature. */
    IMAGE_NOT_SIGNED(0x7, 0xc8, "program image not signed"),
    /** Prism-defined: the signature does not verify, or code does not match its hash. */
    IMAGE_SIGNATURE_INVALID(0x7, 0xc9, "program image signature invalid"),
    /** Prism-defined: signed by a key the device does not trust. */
    IMAGE_KEY_UNKNOWN(0x7, 0xca, "program image signed by an untrusted key"),
    /** Prism-defined: a valid image the compute engines cannot run (no code for them, a map they lack). */
    PROGRAM_LOAD_FAILED(0x7, 0xcb, "program cannot run on this device"),
    /** Prism-defined: the Memory Range Set Identifier names no range set. */
    INVALID_RANGE_SET(0x7, 0xcc, "invalid memory range set identifier"),
    /** Prism-defined: no free memory range set identifier. */
    RANGE_SET_LIMIT(0x7, 0xcd, "memory range set limit exceeded"),
    /** Prism-defined: the results do not fit the output range (nothing was written). */
    OUTPUT_OVERFLOW(0x7, 0xce, "output does not fit the output range"),
    /** Prism-defined: the program returned a negative errno for a chunk (the result holds it). */
    PROGRAM_ERROR(0x7, 0xcf, "program returned an error"),
    /** Prism-defined: the program faulted (a trap, a budget spent) on a chunk. */
    PROGRAM_FAULT(0x7, 0xd0, "program faulted");

    private final int sct;
    private final int sc;
    private final String description;

    NvmeStatus(int sct, int sc, String description) {
        this.sct = sct;
        this.sc = sc;
        this.description = description;
    }

    /** {@return the Status Code Type} */
    public int sct() {
        return sct;
    }

    /** {@return the Status Code} */
    public int sc() {
        return sc;
    }

    /** {@return whether Prism defined the value (SCT 7h, Vendor Specific) rather than the specification} */
    public boolean prismDefined() {
        return sct == 0x7;
    }

    public String description() {
        return description;
    }

    @Override
    public String toString() {
        return String.format("%s (SCT %Xh, SC %02Xh%s)", description, sct, sc, prismDefined() ? ", Prism-defined" : "");
    }
}
