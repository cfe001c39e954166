# a sign-extending load (v4): strict stops at v3; linux answers for the running kernel
# rule: cpu-version
# pc: 1
# type: xdp
# targets: strict, linux?
stdw [%r10-8], 0
ldxsb %r2, [%r10-8]
mov %r0, 2
exit
