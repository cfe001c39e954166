package dev.prism.target;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * How {@link MapAccess} (and {@code prism run --map / --dump-maps}) name the inner map held in
 * a slot of an ARRAY_OF_MAPS or HASH_OF_MAPS: {@code outer[3]} is the map under the u32 key 3
 * (little-endian bytes {@code 03000000}), {@code outer{0a000002}} the map under the key whose
 * bytes are given in hex (any key size). Every other name is a map of the object.
 *
 * @param outer the map-in-map's name
 * @param key   the key bytes
 */
public record InnerMapName(String outer, byte[] key) {
    /**
     * {@return the parts of {@code name} when it names an inner map, else null}
     *
     * @throws IllegalArgumentException for a bracket form that does not parse
     */
    public static InnerMapName parse(String name) {
        int open = name.indexOf('[');
        char close = ']';
        if (open < 0) {
            open = name.indexOf('{');
            close = '}';
        }
        if (open <= 0) {
            return null;
        }
        if (name.charAt(name.length() - 1) != close) {
            throw new IllegalArgumentException("inner map name '" + name + "': expected OUTER[INDEX] or OUTER{HEXKEY}");
        }
        String inside = name.substring(open + 1, name.length() - 1).strip();
        byte[] key;
        try {
            if (close == ']') {
                long index = Long.parseLong(inside);
                if (index < 0 || index > 0xffff_ffffL) {
                    throw new NumberFormatException();
                }
                key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) index).array();
            } else {
                key = HexFormat.of().parseHex(inside);
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("inner map name '" + name + "': "
                    + (close == ']' ? "the index must be a number 0..4294967295" : "the key must be hex bytes"));
        }
        return new InnerMapName(name.substring(0, open), key);
    }

    @Override
    public String toString() {
        return outer + "{" + HexFormat.of().formatHex(key) + "}";
    }
}
