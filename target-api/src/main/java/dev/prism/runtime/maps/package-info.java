/**
 * BPF maps off-heap (DESIGN.md, "Maps and helpers"): {@link dev.prism.runtime.maps.BpfMaps#create}
 * makes one from a {@link dev.prism.program.MapDef}; every map is a
 * {@link dev.prism.runtime.maps.BpfMap}.
 *
 * <table>
 *   <caption>Map types and where their layout is documented</caption>
 *   <tr><th>type</th><th>class</th><th>memory</th><th>native code</th></tr>
 *   <tr><td>ARRAY, PERCPU_ARRAY</td><td>{@link dev.prism.runtime.maps.ArrayMap}</td>
 *       <td>values at a fixed stride, one block per CPU</td><td>inlines lookups</td></tr>
 *   <tr><td>HASH, PERCPU_HASH, LRU_HASH</td><td>{@link dev.prism.runtime.maps.HashTableMap}</td>
 *       <td>header, buckets, preallocated entries; documented hash</td><td>probes without Java</td></tr>
 *   <tr><td>LPM_TRIE</td><td>{@link dev.prism.runtime.maps.LpmTrieMap}</td>
 *       <td>Java index, off-heap value slab</td><td>calls Java</td></tr>
 *   <tr><td>RINGBUF</td><td>{@link dev.prism.runtime.maps.RingBufMap}</td>
 *       <td>positions, data, overflow area</td><td>calls Java to reserve</td></tr>
 *   <tr><td>PROG_ARRAY</td><td>{@link dev.prism.runtime.maps.ProgArrayMap}</td>
 *       <td>Java references</td><td>tail calls go through Java</td></tr>
 *   <tr><td>ARRAY_OF_MAPS, HASH_OF_MAPS</td><td>{@link dev.prism.runtime.maps.MapOfMaps}</td>
 *       <td>an 8-byte array or hash table of inner map handles</td><td>inlines the outer array lookup</td></tr>
 *   <tr><td>DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP</td><td>{@link dev.prism.runtime.maps.RedirectMap}</td>
 *       <td>Java slots</td><td>redirects go through Java</td></tr>
 *   <tr><td>PERF_EVENT_ARRAY</td><td>{@link dev.prism.runtime.maps.PerfEventArrayMap}</td>
 *       <td>Java records, drained after each run</td><td>calls Java</td></tr>
 * </table>
 *
 * <p>All off-heap integers are in host byte order (x86-64 and arm64: little-endian), all
 * blocks 8-byte aligned, all values at 8-byte aligned addresses, so BPF atomics on values are
 * aligned. Errors are the kernel's negative errno values ({@link dev.prism.runtime.maps.MapErrno}).
 */
package dev.prism.runtime.maps;
