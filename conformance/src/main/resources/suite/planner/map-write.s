# a store into a hash value: strict's data plane only adds atomically to hash values
# rule: map-write
# pc: 7
# type: xdp
# targets: strict, nfp, p4
# map: h hash 4 8 16
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
stdw [%r0+0], 1
out:
mov %r0, 2
exit
