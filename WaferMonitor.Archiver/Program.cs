using WaferMonitor.Archiver;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(defaultPort: 18100);
builder.AddArchiver();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapArchiver();
return await app.RunServiceAsync();
