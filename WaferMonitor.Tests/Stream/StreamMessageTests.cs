using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using WaferMonitor.LocalApi.Streaming;

namespace WaferMonitor.Tests.Streaming;

/// <summary>The stream's message encoding and filter semantics, without processes.</summary>
public sealed class StreamMessageTests
{
    private static readonly Guid Job = Guid.NewGuid();

    private static FeedEvent Event(string type, Guid id, Guid? parent, string kind = "progress", string? app = "wafer-process", string? status = "running") =>
        new(7, "{}", type, id, parent, kind, app, status);

    private static StreamFilter Filter(string query) => StreamFilter.Parse(new QueryCollection(QueryHelpers.ParseQuery(query))).Filter!;

    [Fact]
    public void A_message_is_an_id_line_one_data_line_with_the_payload_verbatim_and_a_blank_line()
    {
        var e = new FeedEvent(42, """{"a": 1, "b": "x\ny"}""", "job", Job, null, "started", "app", "running");
        Assert.Equal("id: 42\ndata: {\"seq\":42,\"event\":{\"a\": 1, \"b\": \"x\\ny\"},\"entity_status\":\"running\"}\n\n",
            Encoding.UTF8.GetString(e.Frame.Span));
        var gone = new FeedEvent(43, "{}", "job", Job, null, "started", "app", null);
        Assert.Equal("id: 43\ndata: {\"seq\":43,\"event\":{},\"entity_status\":null}\n\n", Encoding.UTF8.GetString(gone.Frame.Span));
    }

    [Fact]
    public void Job_id_matches_the_job_and_its_subjobs_only()
    {
        var filter = Filter($"?job_id={Job}");
        Assert.True(filter.Matches(Event("job", Job, null)));
        Assert.True(filter.Matches(Event("subjob", Guid.NewGuid(), Job)));
        Assert.False(filter.Matches(Event("job", Guid.NewGuid(), null)));
        Assert.False(filter.Matches(Event("subjob", Job, Guid.NewGuid())));
    }

    [Fact]
    public void Lists_status_and_app_name_combine_with_and()
    {
        var filter = Filter("?entity_type=subjob&kind=finished,error&status=failed&app_name=WAFER");
        Assert.True(filter.Matches(Event("subjob", Guid.NewGuid(), Job, "error", "wafer-process", "failed")));
        Assert.False(filter.Matches(Event("job", Job, null, "error", "wafer-process", "failed")));
        Assert.False(filter.Matches(Event("subjob", Guid.NewGuid(), Job, "progress", "wafer-process", "failed")));
        Assert.False(filter.Matches(Event("subjob", Guid.NewGuid(), Job, "error", "wafer-process", null)));
        Assert.False(filter.Matches(Event("subjob", Guid.NewGuid(), Job, "error", "metrology", "failed")));
        Assert.True(Filter("").Matches(Event("job", Job, null, app: null, status: null)));
    }
}
