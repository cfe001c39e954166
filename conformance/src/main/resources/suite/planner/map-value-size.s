# a 32-byte value: strict's hash values are at most 16 bytes
# rule: map-value-size
# pc: 0
# type: xdp
# targets: strict
# map: h hash 4 32 16
lddw %r1, map_idx 0
mov %r0, 2
exit
