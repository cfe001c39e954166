mov %r6, %r1
ldxdw %r2, [%r6+0]
ldxdw %r3, [%r6+8]
mov %r4, %r2
add %r4, 4
jgt %r4, %r3, short
ldxsh %r0, [%r2+2]
sdiv32 %r0, -1
mov %r1, 7
call local pow
mov %r1, 3
arsh %r0, %r1
stdw [%r10-8], 1
mov %r1, 2
lock fetch xor32 [%r10-8], %r1
mod %r0, %r1
exit
short:
mov %r0, -22
exit
pow:
mov %r0, %r1
lsh32 %r0, 35
be16 %r0
exit
