// libnl-3 and libnl-route-3 from Debian: rtnetlink for links, addresses and routes.
// The include path (/usr/include/libnl3) comes from pkg-config.
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include "bridge_vlan.h"
