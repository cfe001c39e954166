# 128 bytes of stack: strict has 64
# rule: stack-limit
# pc: -1
# type: xdp
# targets: strict
stdw [%r10-128], 0
mov %r0, 2
exit
