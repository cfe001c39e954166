# a 32-bit atomic add: strict lacks the atomic32 group
# rule: group
# pc: 2
# type: xdp
# targets: strict
stw [%r10-4], 0
mov %r2, 1
lock add32 [%r10-4], %r2
mov %r0, 2
exit
