/* What recvmsg(MSG_ERRQUEUE) hands a program for a UDP "port unreachable" on loopback, outside
 * of dgramx and Node: the sock_extended_err and the offender address after it (SO_EE_OFFENDER).
 * scripts/ci/linux-qemu.sh builds it for the host and for each guest arch and compares.
 *
 * The control buffer is filled with 0xAA first, so bytes nobody wrote show as 0xaaaa.
 * Prints one line per family:
 *   udp4: errno=111 origin=2 type=3 code=3 offender=127.0.0.1
 *   udp4: errno=111 origin=2 type=3 code=3 offender=unwritten (sa_family 0xaaaa)
 * Exits non-zero if the error never arrives. Loopback only; bounded by a 5 s poll. */
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int probe(int family) {
  const int v6 = family == AF_INET6;
  const char *name = v6 ? "udp6" : "udp4";
  struct sockaddr_storage to;
  socklen_t to_len;
  memset(&to, 0, sizeof to);
  if (v6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    to_len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&to;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to_len = sizeof *a;
  }

  /* A port nobody listens on: bound a moment ago, then closed. */
  int gone = socket(family, SOCK_DGRAM, 0);
  socklen_t len = sizeof to;
  if (gone < 0 || bind(gone, (struct sockaddr *)&to, to_len) < 0 || getsockname(gone, (struct sockaddr *)&to, &len) < 0) {
    perror(name);
    return 1;
  }
  close(gone);

  int s = socket(family, SOCK_DGRAM, 0);
  int on = 1;
  if (s < 0 || setsockopt(s, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR, &on, sizeof on) < 0) {
    perror(name);
    return 1;
  }
  sendto(s, "x", 1, 0, (struct sockaddr *)&to, to_len);
  struct pollfd p = { .fd = s, .events = 0 };
  if (poll(&p, 1, 5000) != 1 || !(p.revents & POLLERR)) {
    fprintf(stderr, "%s: no error queued within 5 s\n", name);
    return 1;
  }

  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  struct sockaddr_storage from;
  unsigned char control[512];
  memset(control, 0xAA, sizeof control);
  struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = control, .msg_controllen = sizeof control };
  if (recvmsg(s, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
    perror(name);
    return 1;
  }
  int found = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (!(c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) && !(c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) continue;
    const struct sock_extended_err *ee = (const struct sock_extended_err *)CMSG_DATA(c);
    const struct sockaddr *off = SO_EE_OFFENDER(ee);
    char addr[INET6_ADDRSTRLEN + 32];
    if (off->sa_family == AF_INET) {
      inet_ntop(AF_INET, &((const struct sockaddr_in *)off)->sin_addr, addr, sizeof addr);
    } else if (off->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)off)->sin6_addr, addr, sizeof addr);
    } else {
      snprintf(addr, sizeof addr, "unwritten (sa_family 0x%04x)", off->sa_family);
    }
    printf("%s: errno=%u origin=%u type=%u code=%u offender=%s\n", name, ee->ee_errno, ee->ee_origin, ee->ee_type, ee->ee_code, addr);
    found = 1;
  }
  close(s);
  if (!found) fprintf(stderr, "%s: no RECVERR control message\n", name);
  return !found;
}

int main(void) {
  return probe(AF_INET) | probe(AF_INET6);
}
