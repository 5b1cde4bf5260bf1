// Bridge VLANs over raw rtnetlink: libnl-route 3.7 reads a port's VLANs but has no call that
// sets them, nor a bridge's vlan_filtering, so these build the two requests iproute2's
// `bridge vlan add` and `ip link set ... type bridge vlan_filtering 1` send. Building is apart
// from sending, so tests compare the bytes. The caller sends with nl_send_sync, which frees the
// message; NULL means out of memory.
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

// RTM_NEWLINK on an existing bridge: IFLA_LINKINFO { KIND "bridge", DATA { VLAN_FILTERING } }.
static inline struct nl_msg *swiftlet_bridge_vlan_filtering_message(int bridge_index, int enabled) {
    struct ifinfomsg info = { .ifi_family = AF_UNSPEC, .ifi_index = bridge_index };
    struct nl_msg *message = nlmsg_alloc_simple(RTM_NEWLINK, 0);
    struct nlattr *linkinfo, *data;
    if (!message) return NULL;
    if (nlmsg_append(message, &info, sizeof(info), NLMSG_ALIGNTO) < 0
        || !(linkinfo = nla_nest_start(message, IFLA_LINKINFO))
        || nla_put_string(message, IFLA_INFO_KIND, "bridge") < 0
        || !(data = nla_nest_start(message, IFLA_INFO_DATA))
        || nla_put_u8(message, IFLA_BR_VLAN_FILTERING, enabled ? 1 : 0) < 0) {
        nlmsg_free(message);
        return NULL;
    }
    nla_nest_end(message, data);
    nla_nest_end(message, linkinfo);
    return message;
}

// RTM_SETLINK (add) or RTM_DELLINK (remove) of one VLAN on a bridge port, in the bridge's
// (master's) table: AF_BRIDGE, IFLA_AF_SPEC { BRIDGE_FLAGS MASTER, VLAN_INFO { flags, vid } },
// flags being BRIDGE_VLAN_INFO_PVID and BRIDGE_VLAN_INFO_UNTAGGED.
static inline struct nl_msg *swiftlet_bridge_port_vlan_message(int port_index, int add, unsigned short vid, unsigned short flags) {
    struct ifinfomsg info = { .ifi_family = AF_BRIDGE, .ifi_index = port_index };
    struct bridge_vlan_info vlan = { .flags = flags, .vid = vid };
    struct nl_msg *message = nlmsg_alloc_simple(add ? RTM_SETLINK : RTM_DELLINK, 0);
    struct nlattr *spec;
    if (!message) return NULL;
    if (nlmsg_append(message, &info, sizeof(info), NLMSG_ALIGNTO) < 0
        || !(spec = nla_nest_start(message, IFLA_AF_SPEC))
        || nla_put_u16(message, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_MASTER) < 0
        || nla_put(message, IFLA_BRIDGE_VLAN_INFO, sizeof(vlan), &vlan) < 0) {
        nlmsg_free(message);
        return NULL;
    }
    nla_nest_end(message, spec);
    return message;
}
