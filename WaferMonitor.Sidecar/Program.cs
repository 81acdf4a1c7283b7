using WaferMonitor.Sidecar;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(defaultPort: 8000);
builder.AddSidecar();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapSidecar();
return await app.RunServiceAsync();
