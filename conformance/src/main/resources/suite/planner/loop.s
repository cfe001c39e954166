# a loop of 5 trips: strict has no loops (strict-unrolled unrolls it)
# rule: loop
# pc: 1
# type: xdp
# targets: strict
mov %r2, 0
l:
add %r2, 1
jlt %r2, 5, l
mov %r0, 2
exit
