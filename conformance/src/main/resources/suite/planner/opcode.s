# mod64 by an immediate: strict lacks every mod (a legalization can lift it)
# rule: opcode
# pc: 1
# type: xdp
# targets: strict
mov %r2, 10
mod %r2, 3
mov %r0, 2
exit
