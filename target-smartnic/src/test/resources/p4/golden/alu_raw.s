; raw: the RFC 9669 corner cases the lowering spells out: masked shifts, guarded unsigned
; division, signed division by sign fix-ups, 32-bit results zero-extended
ldxdw %r3, [%r1+0]
ldxdw %r4, [%r1+8]
mov %r0, %r3
div %r0, %r4
mov %r5, %r3
smod %r5, %r4
xor %r0, %r5
mov32 %r6, %r3
sdiv32 %r6, %r4
add %r0, %r6
lsh %r3, %r4
arsh32 %r3, 7
add %r0, %r3
div %r0, 8
exit
