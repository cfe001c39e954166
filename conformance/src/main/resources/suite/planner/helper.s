# bpf_get_prandom_u32: strict lacks it
# rule: helper
# pc: 0
# type: xdp
# targets: strict
call 7
mov %r0, 2
exit
