/// The images the runtime said it holds, remembered for a moment, so that a burst of pods on one
/// image asks the runtime once (or once a second) instead of once a container. An
/// `IfNotPresent` or `Never` start asks with `ImageStatus` before it creates its container; on
/// this node a CRI call costs each end about 0.4 ms of CPU, and in a burst of 50 pods those 50
/// calls were a twentieth of the kubelet's and the runtime's work.
///
/// An image removed within that moment (`crictl rmi` beside a starting pod) costs its start one
/// `CreateContainerError`; the kubelet then forgets the image and the next sync asks again, as
/// it would have found it gone. Upstream's kubelet has the same window between its ImageStatus
/// and its CreateContainer, only shorter.
struct ImagePresence: Sendable {
    struct Seen: Sendable {
        var id: String
        var at: ContinuousClock.Instant
    }

    /// How long an image seen present is taken as present without asking the runtime again.
    let freshness: Duration
    private(set) var seen: [String: Seen] = [:]

    init(freshness: Duration = .seconds(1)) {
        self.freshness = freshness
    }

    /// The ID of `image` (as the pod names it) when it was seen present less than `freshness` ago.
    func id(of image: String, now: ContinuousClock.Instant) -> String? {
        guard let entry = seen[image], now - entry.at < freshness else { return nil }
        return entry.id
    }

    /// The runtime said it holds `image` as `id` (or has just pulled it).
    mutating func saw(_ image: String, id: String, now: ContinuousClock.Instant) {
        seen[image] = Seen(id: id, at: now)
        // Entries past their moment are dropped now and then, so the table holds about the
        // images started with lately, not every image the node ever ran.
        if seen.count > 32 { seen = seen.filter { now - $0.value.at < freshness } }
    }

    /// A start with `image` failed in a way its absence would explain: ask again next time.
    mutating func forget(_ image: String) {
        seen[image] = nil
    }
}
