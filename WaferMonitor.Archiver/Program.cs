var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(defaultPort: 18100);

var app = builder.Build();
app.MapDefaultEndpoints();
return await app.RunServiceAsync();
