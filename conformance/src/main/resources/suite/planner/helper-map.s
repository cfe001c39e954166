# a lookup in an array: strict looks up hash maps only
# rule: helper-map
# pc: 5
# type: xdp
# targets: strict
# map: arr array 4 8 4
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 2
exit
