/* mnkvm-reseed HEX: give the kernel's RNG fresh seed bytes (credited as
 * entropy) and make it reseed now. A clone restored from a template starts
 * with the template's RNG state; without this, clones would draw the same
 * "random" numbers until the kernel's next scheduled reseed. */
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int main(int argc, char **argv) {
    struct { struct rand_pool_info info; unsigned char bytes[64]; } seed;
    size_t n = argc > 1 ? strlen(argv[1]) / 2 : 0;
    if (n == 0 || n > sizeof seed.bytes) {
        fprintf(stderr, "usage: mnkvm-reseed HEX (1 to 64 bytes)\n");
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        if (sscanf(argv[1] + 2 * i, "%2hhx", &seed.bytes[i]) != 1) return 2;
    seed.info.entropy_count = (int)(8 * n);
    seed.info.buf_size = (int)n;
    int fd = open("/dev/urandom", O_WRONLY);
    if (fd < 0 || ioctl(fd, RNDADDENTROPY, &seed) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0) {
        perror("mnkvm-reseed");
        return 1;
    }
    return 0;
}
