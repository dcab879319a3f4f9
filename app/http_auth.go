package app

import (
	"net/http"

	"hearth/auth"
)

// profileView is the part of a profile that anyone may see on the sign-in
// screen.
type profileView struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
}

func viewProfile(p auth.Profile) profileView {
	return profileView{ID: p.ID, Name: p.Name, Role: p.Role}
}

func (a *App) handleHealth(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"status":  "ok",
		"version": a.version,
		"backend": a.model.Describe(),
	})
	return nil
}

func (a *App) handleListProfiles(w http.ResponseWriter, r *http.Request) error {
	profiles, err := a.profiles.Profiles(r.Context())
	if err != nil {
		return err
	}
	views := make([]profileView, len(profiles))
	for i, p := range profiles {
		views[i] = viewProfile(p)
	}
	writeJSON(w, http.StatusOK, views)
	return nil
}

// handleCreateProfile creates the first profile for anyone, and later
// profiles only for a signed-in admin. Whether the store is empty is decided
// inside the store's transaction, so two racing first-run requests cannot
// both become admin.
func (a *App) handleCreateProfile(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}

	actorID := ""
	if r.Header.Get("Authorization") != "" {
		actor, err := a.authenticate(r)
		if err != nil {
			return err
		}
		actorID = actor.ID
	}
	p, err := a.profiles.CreateProfile(r.Context(), actorID, req.Name, req.Password)
	if err != nil {
		return err
	}
	a.log.Info("profile created", "profile", p.ID, "role", p.Role, "by", actorID)
	writeJSON(w, http.StatusCreated, map[string]any{"profile": viewProfile(p)})
	return nil
}

func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	token, err := a.profiles.Login(r.Context(), req.Name, req.Password)
	if err != nil {
		return err
	}
	setRequestProfileID(r, token.Profile.ID)
	writeJSON(w, http.StatusOK, map[string]any{
		"token":     token.Token,
		"expiresAt": token.ExpiresAt,
		"profile":   viewProfile(token.Profile),
	})
	return nil
}

func (a *App) handleMe(w http.ResponseWriter, r *http.Request, p auth.Profile) error {
	writeJSON(w, http.StatusOK, viewProfile(p))
	return nil
}
