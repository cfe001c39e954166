# a tc program: the JITs and the interpreter run raw and xdp, strict only xdp
# rule: program-type
# pc: -1
# type: tc
# targets: interpreter, x86-64, arm64, strict
mov %r0, 0
exit
