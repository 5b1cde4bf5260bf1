import CRIAPI
import Foundation
import KubeAPI
import Synchronization

/// Makes a container's image present as its `imagePullPolicy` says, and names the failures as
/// upstream does: `ErrImageNeverPull`, `ErrImagePull`, then `ImagePullBackOff` while a failed
/// image waits for its next try.
final class ImagePuller: Sendable {
    struct Failure: Error {
        var reason: String
        var message: String
    }

    let connection: RuntimeConnection
    let events: EventRecorder
    let backoff: Mutex<RestartBackoff>
    /// The starts in flight, which the pull of one is not counted in.
    let starts: StartsInFlight
    /// Images the runtime said it holds in the last moment.
    let presence: Mutex<ImagePresence>

    init(connection: RuntimeConnection, events: EventRecorder, backoff: RestartBackoff, starts: StartsInFlight = StartsInFlight(),
         presence: ImagePresence = ImagePresence()) {
        self.connection = connection
        self.events = events
        self.backoff = Mutex(backoff)
        self.starts = starts
        self.presence = Mutex(presence)
    }

    /// A container of `image` could not be created: the image may be gone, so the next start asks.
    func forget(_ image: String) {
        presence.withLock { $0.forget(image) }
    }

    /// The policy upstream's defaulting gives a container that names none: `Always` for
    /// `:latest` or an untagged image, `IfNotPresent` otherwise.
    static func policy(_ container: Container) -> String {
        if let policy = container.imagePullPolicy { return policy }
        let image = container.image ?? ""
        if image.contains("@") { return "IfNotPresent" }
        let lastComponent = image.split(separator: "/").last ?? ""
        guard let colon = lastComponent.lastIndex(of: ":") else { return "Always" }
        return lastComponent[lastComponent.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    /// The image's reference (ID) to create the container with.
    func ensure(_ container: Container, pod: Pod) async throws(Failure) -> String {
        let image = container.image ?? ""
        guard !image.isEmpty else { throw Failure(reason: "InvalidImageName", message: "the container names no image") }
        let policy = Self.policy(container)
        if policy != "Always" {
            var id = presence.withLock { $0.id(of: image, now: .now) }
            if id == nil, let present = try? await connection.images.imageStatus(.with { $0.image.image = image }),
               present.hasImage, !present.image.id.isEmpty {
                id = present.image.id
                presence.withLock { $0.saw(image, id: present.image.id, now: .now) }
            }
            if let id {
                // Upstream's words: `kubectl describe pod` shows where the image came from.
                events.record(pod, .normal, "Pulled", "Container image \"\(image)\" already present on machine")
                return id
            }
            if policy == "Never" {
                let message = "Container image \"\(image)\" is not present with pull policy of Never"
                events.record(pod, .warning, "ErrImageNeverPull", message)
                throw Failure(reason: "ErrImageNeverPull", message: message)
            }
        }
        if backoff.withLock({ $0.remainingSinceLastAttempt(image, now: Date()) }) != nil {
            let message = "Back-off pulling image \"\(image)\""
            events.record(pod, .normal, "BackOff", message)
            throw Failure(reason: "ImagePullBackOff", message: message)
        }
        events.record(pod, .normal, "Pulling", "Pulling image \"\(image)\"")
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let reference = try await starts.notCounting {
                try await connection.images.pullImage(.with { $0.image.image = image }).imageRef
            }
            events.record(pod, .normal, "Pulled", "Successfully pulled image \"\(image)\" in \(clock.now - started)")
            presence.withLock { $0.saw(image, id: reference, now: .now) }
            return reference
        } catch {
            backoff.withLock { $0.recordRestart(image, now: Date()) }
            let message = "Failed to pull image \"\(image)\": \(RuntimeConnection.describe(error))"
            events.record(pod, .warning, "Failed", message)
            throw Failure(reason: "ErrImagePull", message: message)
        }
    }
}
