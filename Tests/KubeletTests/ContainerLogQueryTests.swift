import Foundation
import Testing
@testable import Kubelet

/// `kubectl logs` options and the kubelet API's request attributes, as pure values.
@Suite struct ContainerLogQueryTests {
    let log = """
        2026-12-01T10:00:00.000000001Z stdout F first
        2026-12-01T10:00:01.500000000Z stderr P sec
        2026-12-01T10:00:01.600000000Z stderr F ond
        not a cri line
        2026-12-01T10:00:02.000000000Z stdout F third
        2026-12-01T10:00:03.000000000Z stdout P unfinish

        """

    @Test func partsJoinIntoLinesAndAnUnfinishedLineWaits() {
        let (lines, rest) = ContainerLogQuery.lines(Substring(log))
        #expect(lines.map(\.text) == ["first", "second", "third"])
        #expect(lines[1].timeText == "2026-12-01T10:00:01.500000000Z")
        #expect(rest == "2026-12-01T10:00:03.000000000Z stdout P unfinish\n")
    }

    @Test func tailSinceAndTimestampsSelectAndRender() throws {
        let (lines, _) = ContainerLogQuery.lines(Substring(log))
        let now = try #require(ContainerLogQuery.parseTime("2026-12-01T10:00:03Z"))
        var query = try ContainerLogQuery(query: ["tailLines": "2", "timestamps": "true"], now: now)
        #expect(query.select(lines).map(query.render).joined() == "2026-12-01T10:00:01.500000000Z second\n2026-12-01T10:00:02.000000000Z third\n")
        query = try ContainerLogQuery(query: ["sinceSeconds": "2"], now: now)
        #expect(query.select(lines).map(\.text) == ["second", "third"])
        query = try ContainerLogQuery(query: ["sinceTime": "2026-12-01T10:00:02Z"], now: now)
        #expect(query.select(lines).map(\.text) == ["third"])
        query = try ContainerLogQuery(query: ["follow": "", "previous": "false", "limitBytes": "5"], now: now)
        #expect(query.follow && !query.previous && query.limitBytes == 5)
    }

    @Test func badParametersAreRefusedWithTheirNames() {
        for (query, message) in [
            (["tailLines": "-1"], "tailLines must be a number of at least 0, not -1"),
            (["follow": "maybe"], "follow must be true or false, not maybe"),
            (["limitBytes": "0"], "limitBytes must be greater than 0"),
            (["sinceSeconds": "1", "sinceTime": "2026-12-01T10:00:02Z"], "at most one of sinceTime or sinceSeconds may be specified"),
            (["sinceTime": "yesterday"], "sinceTime yesterday is not an RFC 3339 time"),
        ] {
            #expect(throws: ContainerLogQuery.Invalid(description: message)) { try ContainerLogQuery(query: query, now: Date()) }
        }
    }

    @Test func runtimeOperationsAreNamedAsUpstreamNamesThem() {
        #expect(KubeletMetrics.operationName("RunPodSandbox") == "run_podsandbox")
        #expect(KubeletMetrics.operationName("PodSandboxStatus") == "podsandbox_status")
        #expect(KubeletMetrics.operationName("ListPodSandbox") == "list_podsandbox")
        #expect(KubeletMetrics.operationName("ListContainers") == "list_containers")
        #expect(KubeletMetrics.operationName("ImageFsInfo") == "image_fs_info")
    }

    @Test func requestsMapToNodeSubresourcesAndVerbs() {
        func attributes(_ method: String, _ path: String) -> String {
            let found = RequestAttributes(method: method, path: path, nodeName: "node-1")
            return "\(found.verb) \(found.subresource)"
        }
        #expect(attributes("GET", "/containerLogs/default/web/app") == "get proxy")
        #expect(attributes("GET", "/pods") == "get proxy")
        #expect(attributes("GET", "/stats/summary") == "get stats")
        #expect(attributes("GET", "/metrics") == "get metrics")
        #expect(attributes("GET", "/metrics/cadvisor") == "get metrics")
        #expect(attributes("GET", "/metricsx") == "get proxy")
        #expect(attributes("GET", "/logs/syslog") == "get log")
        #expect(attributes("POST", "/exec/default/web/app") == "create proxy")
        #expect(attributes("DELETE", "/pods") == "delete proxy")
    }
}
