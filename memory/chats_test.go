package memory

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestChatThreadBinding(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)

	if _, err := s.ThreadByChat(ctx, a, "chat-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ThreadByChat before any thread: %v, want ErrNotFound", err)
	}
	th, m, err := s.StartChatThread(ctx, a, "chat-1", Message{Role: RoleUser, Content: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if m.ThreadID != th.ID {
		t.Errorf("message stored in thread %s, want %s", m.ThreadID, th.ID)
	}
	got, err := s.ThreadByChat(ctx, a, "chat-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != th.ID {
		t.Errorf("ThreadByChat = %s, want %s", got.ID, th.ID)
	}

	// Another resource has chats of its own under the same id.
	if _, err := s.ThreadByChat(ctx, b, "chat-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ThreadByChat as another resource: %v, want ErrNotFound", err)
	}
	other, _, err := s.StartChatThread(ctx, b, "chat-1", Message{Role: RoleUser, Content: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == th.ID {
		t.Error("two resources share one thread for the same chat id")
	}

	// A second start of the same chat creates nothing.
	before, _, err := s.Threads(ctx, a, ThreadPage{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.StartChatThread(ctx, a, "chat-1", Message{Role: RoleUser, Content: "again"}); !errors.Is(err, ErrChatTaken) {
		t.Errorf("second StartChatThread: %v, want ErrChatTaken", err)
	}
	after, _, err := s.Threads(ctx, a, ThreadPage{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("a refused start left %d threads, want %d", len(after), len(before))
	}

	// Deleting the thread frees the chat id.
	if err := s.DeleteThread(ctx, a, th.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ThreadByChat(ctx, a, "chat-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ThreadByChat after the thread was deleted: %v, want ErrNotFound", err)
	}
	if _, _, err := s.StartChatThread(ctx, a, "chat-1", Message{Role: RoleUser, Content: "anew"}); err != nil {
		t.Errorf("StartChatThread after the delete: %v", err)
	}
}

func TestChatIDRules(t *testing.T) {
	for _, id := range []string{"", strings.Repeat("x", MaxChatIDBytes+1), "a\x00b", "line\nbreak", "bad\xffutf8"} {
		var input *InputError
		if err := CheckChatID("id", id); !errors.As(err, &input) || input.Field != "id" {
			t.Errorf("CheckChatID(%q) = %v, want an InputError on id", id, err)
		}
	}
	for _, id := range []string{"Xy3kP0qLm2Za9BcD", strings.Repeat("é", MaxChatIDBytes/2)} {
		if err := CheckChatID("id", id); err != nil {
			t.Errorf("CheckChatID(%q) = %v, want nil", id, err)
		}
	}
}
