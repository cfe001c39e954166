# a tc program: the interpreter and the JITs run raw, xdp and tc; strict only xdp; opencl raw and xdp
# rule: program-type
# pc: -1
# type: tc
# targets: strict, p4, opencl, csd, csd-aarch64, csd-riscv64
mov %r0, 0
exit
