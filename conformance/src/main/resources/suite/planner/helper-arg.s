# bpf_map_update_elem with flags not a constant: strict needs constant flags
# rule: helper-arg
# pc: 12
# type: xdp
# targets: strict, p4
# map: h hash 4 8 16
call 7
mov %r6, %r0
and %r6, 1
stw [%r10-4], 0
stdw [%r10-16], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
mov %r4, %r6
call 2
mov %r0, 2
exit
