import CNI

/// The configuration list a node writes when its CNI folder has none: our bridge with our
/// IPAM on the node's pod CIDR(s), then the reference portmap plugin for hostPorts when it is
/// installed. Kubernetes expects what it sets: the default gateway, masquerading of traffic
/// leaving the pod network, and hairpin so that a pod reaches itself through a Service.
public enum DefaultNetwork {
    public static let fileName = "10-swiftlet.conflist"
    public static let networkName = "swiftlet"
    public static let bridgeName = "swiftlet0"

    /// The conflist text for `podCIDRs` (one per family, as the Node's spec.podCIDRs lists them).
    /// `cniVersion`: 1.1.0 unless a plugin of the chain is older (Debian 12's portmap stops at 1.0.0).
    public static func configurationList(podCIDRs: [IPNetwork], includePortmap: Bool, dataDirectory: String? = nil,
                                         cniVersion: String = "1.1.0") -> String {
        let ranges = podCIDRs.map { #"[{"subnet": "\#($0.network)/\#($0.prefixLength)"}]"# }.joined(separator: ", ")
        let dataDir = dataDirectory.map { #", "dataDir": "\#($0)""# } ?? ""
        let portmap = includePortmap ? #",\#n    {"type": "portmap", "capabilities": {"portMappings": true}}"# : ""
        return #"""
            {
              "cniVersion": "\#(cniVersion)",
              "name": "\#(networkName)",
              "plugins": [
                {
                  "type": "swiftlet-bridge",
                  "bridge": "\#(bridgeName)",
                  "isDefaultGateway": true,
                  "ipMasq": true,
                  "hairpinMode": true,
                  "ipam": {"type": "swiftlet-ipam", "ranges": [\#(ranges)]\#(dataDir)}
                }\#(portmap)
              ]
            }

            """#
    }
}
