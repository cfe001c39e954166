# 4096 entries: strict's hash maps hold at most 1024
# rule: map-entries
# pc: 0
# type: xdp
# targets: strict
# map: h hash 4 8 4096
lddw %r1, map_idx 0
mov %r0, 2
exit
