# a tc program: the interpreter and the JITs run raw, xdp and tc; strict only xdp; opencl and ptx raw and xdp
# rule: program-type
# pc: -1
# type: tc
# targets: strict, p4, opencl, ptx
mov %r0, 0
exit
