/* No program section: every global function in .text is a raw program. */
static __attribute__((noinline)) int mix(int a, int b)
{
    return (a << 3) ^ b;
}

int first(int *mem)
{
    return mix(mem[0], 1);
}

int second(int *mem)
{
    return mix(2, mem[1]);
}
