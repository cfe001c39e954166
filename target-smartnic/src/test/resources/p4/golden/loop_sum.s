; XDP: sum the first 8 bytes of the packet in a bounded loop (unrolled), return the sum's low bit + 1
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 8
jgt %r4, %r3, short
mov %r0, 0
mov %r6, 0
again:
mov %r5, %r2
add %r5, %r6
ldxb %r7, [%r5+0]
add %r0, %r7
add %r6, 1
jlt %r6, 8, again
and %r0, 1
add %r0, 1
exit
short:
mov %r0, 2
exit
