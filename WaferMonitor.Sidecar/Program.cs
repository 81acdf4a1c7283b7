var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(defaultPort: 8000);

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunServiceAsync();
