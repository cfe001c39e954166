# r0 = 7 at the exit: strict accepts the XDP actions 0..3
# rule: return-code
# pc: 1
# type: xdp
# targets: strict
mov %r0, 7
exit
