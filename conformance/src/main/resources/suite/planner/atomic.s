# an atomic xor: strict has atomic add only
# rule: atomic
# pc: 2
# type: xdp
# targets: strict, nfp
stdw [%r10-8], 0
mov %r2, 1
lock xor [%r10-8], %r2
mov %r0, 2
exit
