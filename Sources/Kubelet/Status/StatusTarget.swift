import KubeAPI

/// Where a pod's statuses go in the API: the object, and the UID that guards each write so a
/// namesake is never touched. A static pod's statuses go to its mirror, whose UID is not its own.
struct StatusTarget: Sendable, Hashable, CustomStringConvertible {
    var key: ObjectKey
    var uid: String

    var description: String { key.description }
}
