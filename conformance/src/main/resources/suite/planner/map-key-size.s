# a 16-byte key: strict's hash keys are at most 8 bytes
# rule: map-key-size
# pc: 0
# type: xdp
# targets: strict
# map: h hash 16 8 16
lddw %r1, map_idx 0
mov %r0, 2
exit
