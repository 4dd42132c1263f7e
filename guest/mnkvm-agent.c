/* mnkvm-agent: the guest side of mnkvm's control channel, the virtio port
 * mnkvm.ctl. Started by init before the guest is saved as a template, it
 * waits for requests, one line each, and answers "ok" or "error WHY":
 *
 *   identity NAME EPOCH_NS SEED_HEX   hostname, clock, fresh randomness
 *   nic MAC NAME NEWMAC               the NIC with MAC (plugged in at start,
 *                                     or hot-plugged: wait for it) gets
 *                                     NAME and NEWMAC
 *   unplug NAME                       let go of NIC NAME now (the machine
 *                                     unplugs it next): its name is free
 *   mount FOLDER                      mount the machine's FOLDER (sshfs
 *                                     over the virtio port mnkvm.share),
 *                                     at FOLDER in the image's root where
 *                                     the guest runs an image
 *
 * One resident process instead of a shell script because a clone restored
 * from a template starts as the same guest as every other clone, and under
 * TCG emulation each fork and exec of a fresh clone costs tens of ms. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

static char reply[512];

static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(reply, sizeof reply, "error ");
    vsnprintf(reply + n, sizeof reply - n - 1, fmt, ap);   /* room for the newline */
    va_end(ap);
    return -1;
}

static void pause_ms(long ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

/* The first line of a small file, without its newline; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t size) {
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(buf, (int)size, f)) buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* /dev/vportNpM of the virtio port called name, waiting up to 5 s for it. */
static int find_port(const char *name, char *dev, size_t size) {
    for (int tries = 0; tries < 500; tries++, pause_ms(10)) {
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char path[300], value[64];
            snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
            read_line(path, value, sizeof value);
            if (strcmp(value, name) == 0) {
                snprintf(dev, size, "/dev/%s", e->d_name);
                closedir(d);
                return 0;
            }
        }
        if (d) closedir(d);
    }
    return -1;
}

static int identity(const char *name, const char *epoch_ns, const char *hex) {
    if (sethostname(name, strlen(name)) < 0) return fail("hostname %s: %s", name, strerror(errno));
    long long ns = atoll(epoch_ns);
    struct timespec now = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
    if (clock_settime(CLOCK_REALTIME, &now) < 0) return fail("clock: %s", strerror(errno));
    /* Clones start with the template's RNG state: credit fresh seed bytes,
     * then make the kernel reseed now (this kernel has no vmgenid driver). */
    struct { struct rand_pool_info info; unsigned char bytes[64]; } seed;
    size_t n = strlen(hex) / 2;
    if (n == 0 || n > sizeof seed.bytes) return fail("seed: give 1 to 64 bytes in hex");
    for (size_t i = 0; i < n; i++)
        if (sscanf(hex + 2 * i, "%2hhx", &seed.bytes[i]) != 1) return fail("seed: not hex");
    seed.info.entropy_count = (int)(8 * n);
    seed.info.buf_size = (int)n;
    int fd = open("/dev/urandom", O_WRONLY);
    int ok = fd >= 0 && ioctl(fd, RNDADDENTROPY, &seed) == 0 && ioctl(fd, RNDRESEEDCRNG) == 0;
    if (fd >= 0) close(fd);
    return ok ? 0 : fail("reseed: %s", strerror(errno));
}

/* The request for interface dev: its name, the rest zero. */
static struct ifreq ifreq_for(const char *dev) {
    struct ifreq req;
    memset(&req, 0, sizeof req);
    memcpy(req.ifr_name, dev, strnlen(dev, IFNAMSIZ - 1));
    return req;
}

static int nic(const char *mac, const char *name, const char *newmac) {
    if (strlen(name) >= IFNAMSIZ) return fail("interface name %s is too long", name);
    unsigned char addr[6];
    if (sscanf(newmac, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx", &addr[0], &addr[1], &addr[2], &addr[3], &addr[4], &addr[5]) != 6)
        return fail("bad MAC %s", newmac);
    for (int tries = 0; tries < 1000; tries++, pause_ms(10)) {
        DIR *d = opendir("/sys/class/net");
        struct dirent *e;
        char found[256] = "";
        while (d && (e = readdir(d))) {
            char path[300], address[32];
            snprintf(path, sizeof path, "/sys/class/net/%s/address", e->d_name);
            read_line(path, address, sizeof address);
            if (strcasecmp(address, mac) == 0) snprintf(found, sizeof found, "%s", e->d_name);
        }
        if (d) closedir(d);
        if (!found[0]) continue;
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) return fail("socket: %s", strerror(errno));
        struct ifreq address = ifreq_for(found), rename = ifreq_for(found);
        address.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(address.ifr_hwaddr.sa_data, addr, sizeof addr);
        memcpy(rename.ifr_newname, name, strlen(name));
        int rc = 0;
        if (strcasecmp(mac, newmac) != 0 && ioctl(s, SIOCSIFHWADDR, &address) < 0)
            rc = fail("address %s for %s: %s", newmac, found, strerror(errno));
        else if (strcmp(found, name) != 0 && ioctl(s, SIOCSIFNAME, &rename) < 0)
            rc = fail("rename %s to %s: %s", found, name, strerror(errno));
        close(s);
        return rc;
    }
    return fail("no NIC with MAC %s appeared within 10 s", mac);
}

/* The guest removes the NIC's PCI device itself, as `ip link del` would a
 * veth: Linux's PCIe hot-plug releases an unplugged device only 5 s after
 * QEMU asks, and until then its name would be taken. */
static int unplug(const char *name) {
    char path[300];
    if (strlen(name) >= IFNAMSIZ || strchr(name, '/')) return fail("bad interface name %s", name);
    snprintf(path, sizeof path, "/sys/class/net/%s/device/../remove", name);   /* the virtio device's PCI parent */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : fail("%s: %s", path, strerror(errno));
    int ok = write(fd, "1", 1) == 1;
    int rc = ok ? 0 : fail("%s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static int mounted(const char *folder) {
    char want[440], line[1024];
    snprintf(want, sizeof want, " %s fuse.sshfs ", folder);
    FILE *f = fopen("/proc/mounts", "r");
    int yes = 0;
    while (f && !yes && fgets(line, sizeof line, f)) yes = strstr(line, want) != NULL;
    if (f) fclose(f);
    return yes;
}

/* mkdir -p */
static void mkdirs(const char *folder) {
    char path[400];
    snprintf(path, sizeof path, "%s", folder);
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    mkdir(path, 0755);
}

/* The machine's folder is mounted at the same path where Mininet's shell
 * sees it: in a guest that runs an image, under the image's root. */
static int share(const char *machine_folder) {
    char port[300], folder[400];
    if (find_port("mnkvm.share", port, sizeof port) < 0) return fail("no virtio port mnkvm.share");
    snprintf(folder, sizeof folder, "%s%s", access("/image/.mnkvm", F_OK) == 0 ? "/image" : "", machine_folder);
    mkdirs(folder);
    /* Passive sshfs speaks SFTP on its stdin/stdout, in the foreground, to
     * the machine's sftp-server at the other end of the port. */
    pid_t pid = fork();
    if (pid < 0) return fail("fork: %s", strerror(errno));
    if (pid == 0) {
        setsid();
        int fd = open(port, O_RDWR);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0) _exit(127);
        dup2(fd, 0), dup2(fd, 1), dup2(null, 2);
        char source[400];
        snprintf(source, sizeof source, ":%s", machine_folder);
        execlp("sshfs", "sshfs", "-o", "passive,dir_cache=no", source, folder, (char *)NULL);
        _exit(127);
    }
    for (int tries = 0; tries < 500; tries++, pause_ms(10)) {
        if (!mounted(folder)) continue;
        /* One round trip through sshfs (statfs always reaches it): it is
         * serving, and has nothing under way when the guest is saved. */
        struct statfs fs;
        return statfs(folder, &fs) == 0 ? 0 : fail("statfs %s: %s", folder, strerror(errno));
    }
    return fail("could not mount the machine's %s", folder);
}

static int handle(char *line) {
    char *argv[5] = { 0 };
    int argc = 0;
    for (char *tok = strtok(line, " "); tok && argc < 5; tok = strtok(NULL, " ")) argv[argc++] = tok;
    if (argc == 4 && strcmp(argv[0], "identity") == 0) return identity(argv[1], argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[0], "nic") == 0) return nic(argv[1], argv[2], argv[3]);
    if (argc == 2 && strcmp(argv[0], "mount") == 0) return share(argv[1]);
    if (argc == 2 && strcmp(argv[0], "unplug") == 0) return unplug(argv[1]);
    return fail("unknown request");
}

int main(void) {
    char port[300];
    if (find_port("mnkvm.ctl", port, sizeof port) < 0) {
        fprintf(stderr, "mnkvm-agent: no virtio port mnkvm.ctl\n");
        return 1;
    }
    int fd = open(port, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        perror("mnkvm-agent");
        return 1;
    }
    signal(SIGCHLD, SIG_IGN);   /* sshfs children are never waited for */
    char buf[1024];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {   /* the machine's end is closed: wait for it to come back */
            pause_ms(100);
            continue;
        }
        len += (size_t)n;
        buf[len] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            strcpy(reply, "ok");
            handle(buf);
            strcat(reply, "\n");
            if (write(fd, reply, strlen(reply)) < 0) perror("mnkvm-agent");
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len + 1);
        }
        if (len == sizeof buf - 1) len = 0;   /* a line too long: drop it */
    }
}
