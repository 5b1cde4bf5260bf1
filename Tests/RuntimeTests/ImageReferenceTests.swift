import Runtime
import Testing

struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1"),
        ("bitnami/redis", "docker.io/bitnami/redis:latest"),
        ("localhost/swiftlet/busybox", "localhost/swiftlet/busybox:latest"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        ("localhost:5000/team/app:v2", "localhost:5000/team/app:v2"),
        ("busybox@sha256:" + String(repeating: "a", count: 64), "docker.io/library/busybox@sha256:" + String(repeating: "a", count: 64)),
        ("busybox:1@sha256:" + String(repeating: "b", count: 64), "docker.io/library/busybox:1@sha256:" + String(repeating: "b", count: 64)),
    ])
    func namesAreNormalisedAsKubernetesUsersExpect(input: String, normalised: String) throws {
        #expect(try ImageReference(parsing: input).description == normalised)
    }

    @Test(arguments: ["", "Busybox", "busybox:", "busybox@sha256:abc", "a//b", "busybox:-x", "/busybox"])
    func malformedReferencesAreRefused(input: String) {
        #expect(throws: ImageReferenceError.self) { try ImageReference(parsing: input) }
    }

    @Test func chainIDsFollowTheImageSpec() throws {
        let a = try Digest(parsing: "sha256:" + String(repeating: "1", count: 64))
        let b = try Digest(parsing: "sha256:" + String(repeating: "2", count: 64))
        let chain = Digest.chainIDs([a, b])
        #expect(chain[0] == a)
        #expect(chain[1] == Digest(of: Array("\(a) \(b)".utf8)))
    }
}
