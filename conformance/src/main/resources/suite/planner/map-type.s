# an LPM trie: strict has hash and array maps
# rule: map-type
# pc: 0
# type: xdp
# targets: strict, nfp, csd-aarch64, csd-riscv64
# map: t lpm_trie 8 8 16 1
lddw %r1, map_idx 0
mov %r0, 2
exit
