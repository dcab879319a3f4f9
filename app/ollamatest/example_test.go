package ollamatest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/ollama/ollama/api"

	"hearth/app/ollamatest"
)

// A test scripts the next chat reply and reads it back with the real
// Ollama client. Inside a test, ollamatest.NewServer(t) replaces the first
// three lines.
func ExampleServer_Enqueue() {
	fake := ollamatest.New()
	server := httptest.NewServer(fake.Handler())
	defer server.Close()

	fake.Enqueue(ollamatest.Reply{Chunks: []string{"Hello", ", ", "world"}})

	base, err := url.Parse(server.URL)
	if err != nil {
		panic(err)
	}
	client := api.NewClient(base, http.DefaultClient)
	req := &api.ChatRequest{
		Model:    "llama3.2",
		Messages: []api.Message{{Role: "user", Content: "Say hello."}},
	}
	err = client.Chat(context.Background(), req, func(r api.ChatResponse) error {
		fmt.Printf("%q done=%t\n", r.Message.Content, r.Done)
		return nil
	})
	if err != nil {
		panic(err)
	}

	// Output:
	// "Hello" done=false
	// ", " done=false
	// "world" done=false
	// "" done=true
}
